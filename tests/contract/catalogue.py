"""A small catalogue with one movie per search behaviour the contract promises; ids sort in this order."""

from __future__ import annotations

from search_svc.domain.movie import Actor, Movie, Writer

LUCAS = "Джордж Лукас"

MOVIES: tuple[Movie, ...] = (
    Movie(
        "m01",
        "Бегущий по лезвию",
        "Охотник за репликантами выслеживает беглецов в Лос-Анджелесе 2019 года.",
        8.1,
        ("Sci-Fi", "Thriller"),
        ("Ридли Скотт",),
        (Actor(1, "Харрисон Форд"), Actor(2, "Рутгер Хауэр")),
        (Writer("w1", "Хэмптон Фэнчер"), Writer("w2", "Дэвид Пиплз")),
    ),
    Movie(
        "m02",
        "Blade Runner",
        "A blade runner must pursue and terminate four replicants.",
        8.1,
        ("Sci-Fi", "Thriller"),
        ("Ridley Scott",),
        (Actor(1, "Harrison Ford"),),
        (Writer("w3", "Hampton Fancher"),),
    ),
    Movie(
        "m03",
        "Терминатор",
        "Киборг-убийца прибывает из будущего.",
        8.0,
        ("Action", "Sci-Fi"),
        ("Джеймс Кэмерон",),
        (Actor(3, "Арнольд Шварценеггер"),),
        (Writer("w4", "Джеймс Кэмерон"),),
    ),
    Movie(
        "m04",
        "The Terminator",
        "A cyborg assassin is sent back in time.",
        8.0,
        ("Action", "Sci-Fi"),
        ("James Cameron",),
        (Actor(4, "Arnold Schwarzenegger"),),
        (),
    ),
    Movie(
        "m05",
        "Чёрное зеркало",
        "Антология о тёмной стороне технологий.",
        8.8,
        ("Drama", "Sci-Fi"),
        ("Чарли Брукер",),
        (),
        (Writer("w5", "Чарли Брукер"),),
    ),
    Movie(
        "m06",
        "Звёздные войны: Новая надежда",
        "Юный фермер вступает в борьбу с Империей.",
        8.6,
        ("Adventure", "Sci-Fi"),
        (LUCAS,),
        (Actor(5, "Марк Хэмилл"), Actor(2, "Харрисон Форд")),
        (Writer("w6", LUCAS),),
    ),
    Movie(
        "m07",
        "Star Wars",
        "Luke Skywalker joins forces to save the galaxy.",
        8.6,
        ("Adventure", "Sci-Fi"),
        ("George Lucas",),
        (Actor(6, "Mark Hamill"),),
        (Writer("w7", "George Lucas"),),
    ),
    Movie(
        "m08",
        "Американские граффити",
        "Последняя летняя ночь перед колледжем.",
        7.4,
        ("Comedy", "Drama"),
        (LUCAS,),
        (),
        (),
    ),
    Movie("m09", "The The", "", None, ("Documentary",), (), (), ()),
    Movie("m10", "Это", "Клоун терроризирует детей маленького города.", 7.3, ("Horror",), ("Андрес Мускетти",), (), ()),
    Movie(
        "m11", "It", "A clown terrorises the children of a small town.", 7.3, ("Horror",), ("Andy Muschietti",), (), ()
    ),
    Movie("m12", "Зеркало", "Воспоминания поэта о детстве и матери.", 8.0, ("Drama",), ("Андрей Тарковский",), (), ()),
    Movie("m13", "Ёлки", "Новогодние истории в разных городах.", None, ("Comedy",), ("Тимур Бекмамбетов",), (), ()),
    Movie("m14", "apple Pie", "", 5.5, ("Comedy",), (), (), ()),
    Movie(
        "m15",
        "Running Man",
        "A wrongly convicted man must survive a deadly game show.",
        6.7,
        ("Action",),
        ("Paul Michael Glaser",),
        (),
        (),
    ),
    Movie(
        "m16", "Лезвие", "Охотник на вампиров. Бегущих нет.", 7.1, ("Action", "Horror"), ("Стивен Норрингтон",), (), ()
    ),
    # Two actors sharing a surname, one with a three-letter first name: a typo in it still tells them apart.
    Movie(
        "m17", "Reservoir Dogs", "A heist goes wrong.", 8.3, ("Crime",), ("Quentin Tarantino",), (Actor(7, "Tim Roth"),)
    ),
    Movie("m18", "Inglourious Basterds", "Soldiers behind the lines.", 8.4, ("War",), (), (Actor(8, "Eli Roth"),)),
    # «дни», «дня» have the lemma «день» but not its Snowball stem.
    Movie("m19", "День сурка", "Телеведущий просыпается в одном и том же февральском утре.", None, ("Romance",)),
    # A director's own film, fully credited, between a short she appears in and a stub crediting her beside one of her
    # actors: a name weighs the same in a long credit list as in a short one, and more where it is rarer (she is
    # one director among these movies, one actress of two).
    Movie("m20", "Behind the Lighthouse", "A short about a shoot.", 6.2, ("Western",), (), (Actor(20, "Ann Keller"),)),
    Movie(
        "m21",
        "Harbour Lights",
        "A keeper waits for a ship.",
        7.4,
        ("Western",),
        ("Ann Keller",),
        (Actor(21, "Ruth Vance"), Actor(22, "Owen Marsh"), Actor(23, "Lila Grant"), Actor(24, "Dev Patil")),
        (Writer("w20", "Sam Hale"), Writer("w21", "Ivy Rowe")),
    ),
    Movie("m22", "Quiet Pier", "", 6.9, ("Western",), (), (Actor(21, "Ruth Vance"), Actor(20, "Ann Keller"))),
    # «Reservoir Dogs» in the Russian catalogue: a name typed in Latin with a typo is the English film's first.
    Movie(
        "m23", "Бешеные псы", "Ограбление идёт не так.", 8.3, ("Crime",), ("Квентин Тарантино",), (Actor(9, "Тим Рот"),)
    ),
    # Two titles of the same words: the longer one holds them as typed, in order.
    Movie("m24", "The Last Night Train Home", "", 6.8, ("Western",)),
    Movie("m25", "Train at Night", "", 6.1, ("Western",)),
    # A film the catalogue knows fully and a bare record of the same words in a shorter title, as games and shorts
    # sharing a famous film's name are: the fuller record is the one people look for.
    Movie("m26", "Comet Over Vale", "A game for the Atari 2600.", 7.9, ("Western",)),
    Movie(
        "m27",
        "Comet Over Vale: Winter",
        "A mining town waits out the winter under a comet that will not set, and two brothers lose everything to it.",
        7.1,
        ("Western",),
        ("Nora Quill",),
        (Actor(25, "Abe Stone"), Actor(26, "Jon Reyes"), Actor(27, "Mae Lund")),
        (Writer("w22", "Tess Ford"),),
    ),
    # A name typed one letter off that one credit happens to hold as typed: "carie fisher" means Carrie Fisher.
    Movie("m28", "Lantern Bay", "", 6.0, ("Western",), (), (Actor(28, "Carie Lund"),)),
    Movie("m29", "Salt Road", "", 6.5, ("Western",), (), (Actor(29, "Carrie Fisher"),)),
    # --- how typos and names rank (ids r..: after the m.. block) ---
    # A surname typed one letter off ("wiliams") is one edit from Williams as written, two from William: a name's
    # typo is looked for among names as written, not among their stems ("william", the stem of both).
    Movie("r01", "Dry Creek", "", 6.4, ("Western",), (), (Actor(101, "Vera Williams"),)),
    Movie(
        "r02",
        "Dry Creek Crossing",
        "A drover and his crew bring the herd across a flooded river before the first snow of the long winter.",
        7.2,
        ("Western",),
        ("Vera Holt",),
        (Actor(102, "William Crane"), Actor(103, "Ada Pike"), Actor(104, "Roy Dunn")),
        (Writer("w101", "Vera Holt"),),
    ),
    # "dana corwin" means Dane Corwin, though three credits hold a Dana as typed.
    Movie("r03", "Red Mesa", "", 6.0, ("Western",), (), (Actor(105, "Dana Wolfe"),)),
    Movie("r04", "Red Mesa Return", "", 6.1, ("Western",), (), (Actor(106, "Dana Pruitt"),)),
    Movie("r05", "Long Mesa", "", 6.2, ("Western",), ("Dana Marlow",)),
    Movie("r06", "Cold Spring", "", 6.3, ("Western",), (), (Actor(107, "Dane Corwin"),)),
    # One title word typed with a slip: the title made of it alone is more about it than a longer one holding it.
    Movie("r07", "Brimstone Valley Trail Riders", "", 6.0, ("Western",)),
    Movie("r08", "Brimstone", "", 6.0, ("Western",)),
    # One word, the title of one film and the name of another's director: the film of that title is the likelier
    # meaning, though its title is longer than most.
    Movie(
        "r09",
        "Quenby Flats River Road",
        "Two sisters keep a ferry running on a river that the new railway bridge is about to make useless.",
        6.6,
        ("Western",),
    ),
    Movie("r10", "Dust Devil", "", 6.6, ("Western",), ("Hank Quenby",)),
    # --- the prior in the fallback (ids s..: after the r.. block) ---
    # The pair of m26/m27 in the fallback: a bare record under the shorter title, and the film the catalogue knows
    # fully.
    Movie("s01", "Kestrel Over Dunmore", "A fan film.", 5.0, ("Western",)),
    Movie(
        "s02",
        "Kestrel Over Dunmore: Thaw",
        "A falconer crosses the frozen moor to bring back his brother, and the thaw comes before either can return.",
        6.4,
        ("Western",),
        ("Ida Crane",),
        (Actor(30, "Rob Hale"), Actor(31, "Una Pike"), Actor(32, "Cal Wynn")),
        (Writer("w23", "Ned Pryor"),),
    ),
)

BY_ID = {movie.id: movie for movie in MOVIES}

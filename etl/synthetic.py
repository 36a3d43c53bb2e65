"""A deterministic generator of large legacy exports, for measuring the ETL and the engines at scale.

The export has the legacy file's schema and its kinds of dirt at about its rates (measured on the 999-movie
file): 'N/A' directors (30 %), plots (25 %), ratings (0.1 %), an actor and a writer named 'N/A' (7 % of movies
list only that actor; half the single-writer movies name that writer), repeated link rows (1.3 %), `writers`
JSON lists with repeated ids (20 % of lists), '(co-director)' suffixes, titles shared by several movies.
The same seed gives the same rows; movie ids are a scrambled sequence so that id order is not insertion order,
as in the legacy file.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from etl.export_schema import INSERT_ACTORS, INSERT_LINKS, INSERT_MOVIES, INSERT_WRITERS, new_export

GENRES = (
    "Action Adventure Animation Biography Comedy Crime Documentary Drama Family Fantasy Game-Show History Horror "
    "Music Musical Mystery News Reality-TV Romance Sci-Fi Short Sport Talk-Show Thriller War Western"
).split()

_EN_FIRST = (
    "James Mary Robert Linda Michael Susan David Karen Richard Nancy Thomas Laura Daniel Emily Paul Grace Mark "
    "Helen Steven Alice George Ruth Kevin Julia Brian Emma Edward Olivia Peter Sophie"
).split()
_EN_LAST = (
    "Smith Johnson Brown Taylor Miller Wilson Moore Clark Lewis Walker Hall Young King Wright Scott Green Baker "
    "Adams Nelson Carter Mitchell Turner Parker Collins Stewart Morris Murphy Cook Bell Cooper"
).split()
_RU_MEN = "Александр Дмитрий Сергей Андрей Алексей Иван Михаил Николай Владимир Пётр Фёдор Олег".split()
_RU_WOMEN = "Мария Анна Елена Ольга Наталья Татьяна Ирина Светлана Юлия Ксения Алёна Вера".split()
_RU_LAST = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков Алексеев "
    "Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Зайцев"
).split()

_EN_ADJECTIVES = (
    "Last Silent Dark Lost Hidden Broken Golden Distant Wild Endless Cold Bright Secret Final Forgotten Red "
    "Northern Little Strange Iron"
).split()
_EN_NOUNS = (
    "Star Road River City Night Sea Memory Border Hunt Legend Mirror Heart Island Wind Shadow Shore Letter "
    "Winter Summer Planet Kingdom Signal Garden Storm Machine Empire Voyage Witness Dream Station"
).split()
_RU_MASCULINE = ("Последний Тихий Белый Чёрный Далёкий Верный Новый Тёмный Северный Золотой").split()
_RU_MASCULINE_NOUNS = ("герой город рубеж рейс берег день шанс свидетель остров ветер сигнал сад").split()
_RU_FEMININE = ("Последняя Тихая Белая Чёрная Далёкая Верная Новая Тёмная Северная Золотая").split()
_RU_FEMININE_NOUNS = ("звезда дорога ночь граница охота легенда зима планета империя память тень река").split()
_RU_NOMINATIVE = ("Звезда Дорога Тайна Город Ночь Море Память Граница Охота Легенда Зеркало Сердце Путь").split()
_RU_GENITIVE = ("океана прошлого севера героя времени звёзд судьбы пустыни любви войны детства луны").split()

_EN_PLOT = (
    "{name}, a {job}, must {goal} before {deadline}.",
    "When {event}, {name} travels to {place} and finds that nothing is what it seemed.",
    "A {job} and a stranger team up to {goal}, while {event}.",
    "Years after {event}, {name} returns to {place} to {goal}.",
    "In {place}, a {job} named {name} discovers a secret that could {change}.",
    "The story follows {name} through one long night in {place}.",
)
_EN_FILL = {
    "job": "detective pilot teacher smuggler doctor journalist soldier engineer singer thief".split(),
    "goal": (
        "find a missing brother|stop a war|win back a lost love|save the station|solve an old murder|"
        "escape the city|cross the desert|prove her innocence"
    ).split("|"),
    "deadline": "the winter comes|the ship leaves|the money runs out|midnight|the storm hits|dawn".split("|"),
    "event": (
        "the power fails|a stranger arrives|the war ends|the signal stops|the river floods|an old friend disappears"
    ).split("|"),
    "place": "Moscow|London|a small town|the mountains|a space station|the desert|an island|Paris".split("|"),
    "change": "change everything|bring down the government|end the war|save the world".split("|"),
}
_RU_PLOT = (
    "{name} — {job}, который должен {goal}, пока {deadline}.",
    "Когда {event}, {name} отправляется в {place} и понимает, что всё не так, как казалось.",
    "Спустя годы после того, как {event}, {name} возвращается в {place}, чтобы {goal}.",
    "Приехав в {place}, {job} по имени {name} узнаёт тайну, способную {change}.",
    "История одной долгой ночи: {name} пытается {goal}.",
)
_RU_FILL = {
    "job": "следователь лётчик учитель контрабандист врач журналист солдат инженер певец вор".split(),
    "goal": (
        "найти пропавшего брата|остановить войну|вернуть потерянную любовь|спасти станцию|"
        "раскрыть старое убийство|сбежать из города|пересечь пустыню|доказать свою невиновность"
    ).split("|"),
    "deadline": "не пришла зима|не ушёл корабль|не кончились деньги|не наступила полночь|не началась буря".split("|"),
    "event": (
        "погас свет|в город приехал незнакомец|закончилась война|пропал сигнал|разлилась река|исчез старый друг"
    ).split("|"),
    "place": "Москву|Лондон|маленький город|горы|космическую станцию|пустыню|Петербург|Париж".split("|"),
    "change": "изменить всё|свергнуть правительство|закончить войну|спасти мир".split("|"),
}

# Every surname above ends in -ов/-ев/-ин, whose feminine form adds -а.
_RU_PEOPLE = (*((man, "") for man in _RU_MEN), *((woman, "а") for woman in _RU_WOMEN))

# Rates measured on the legacy file (999 movies); see the module docstring.
_DIRECTOR_NA = 0.30
_PLOT_NA = 0.25
_RATING_NA = 0.001
_SINGLE_WRITER = 0.60
_SINGLE_WRITER_NA = 0.54
_REPEATS_IN_LIST = 0.20
_ONLY_NA_ACTOR = 0.07
_REPEATED_LINK = 0.013
_SEVERAL_DIRECTORS = 0.10
_CO_DIRECTOR = 0.05  # of the movies with several directors
_REUSED_TITLE = 0.04
_RUSSIAN = 0.4
_BATCH = 10_000
_RECENT_TITLES = 1000
# Multiplier of the id scramble: odd and not a multiple of 5, hence invertible modulo any power of ten.
_SCRAMBLE = 7_368_787


def write_synthetic(path: Path, movies: int, seed: int = 1, on_progress: Callable[[int], None] | None = None) -> None:
    """Write an export of `movies` movies to `path` (replaced atomically); `on_progress(n)` after each batch."""
    if movies < 0:
        raise ValueError("the number of movies cannot be negative")
    generator = _Generator(movies, seed)
    with new_export(path) as connection:
        for sql, rows in (
            (INSERT_ACTORS, generator.actors()),
            (INSERT_WRITERS, generator.writers()),
        ):
            for batch in _batches(rows):
                connection.executemany(sql, batch)
        for movie_batch, link_batch in generator.movies():
            connection.executemany(INSERT_MOVIES, movie_batch)
            connection.executemany(INSERT_LINKS, link_batch)
            if on_progress is not None:
                on_progress(len(movie_batch))


def _batches(rows: Iterator[tuple[object, ...]]) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _Generator:
    def __init__(self, movies: int, seed: int) -> None:
        self._movies = movies
        self._seed = seed
        self._rng = random.Random(seed)
        # People scale with the catalogue, as in the legacy file (2.7 actors and 1.2 writers per movie).
        self._actor_count = max(20, movies * 27 // 10)
        self._writer_count = max(10, movies * 12 // 10)
        self._na_actor = self._rng.randint(1, self._actor_count)
        self._na_writer = self._rng.randrange(self._writer_count)
        self._digits = max(7, len(str(movies)))

    def actors(self) -> Iterator[tuple[object, ...]]:
        for actor_id in range(1, self._actor_count + 1):
            yield actor_id, "N/A" if actor_id == self._na_actor else self._person()

    def writers(self) -> Iterator[tuple[object, ...]]:
        for index in range(self._writer_count):
            yield self._writer_id(index), "N/A" if index == self._na_writer else self._person()

    def movies(self) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
        rng = self._rng
        recent: list[str] = []
        movies: list[tuple[object, ...]] = []
        links: list[tuple[object, ...]] = []
        for index in range(self._movies):
            movie_id = f"tt{(index * _SCRAMBLE + 12_345) % 10**self._digits:0{self._digits}d}"
            russian = rng.random() < _RUSSIAN
            if recent and rng.random() < _REUSED_TITLE:
                title = rng.choice(recent)
            else:
                title = self._russian_title() if russian else self._english_title()
                if len(recent) < _RECENT_TITLES:
                    recent.append(title)
                else:
                    recent[index % _RECENT_TITLES] = title
            writer, writers = self._writer_columns()
            movies.append(
                (
                    movie_id,
                    ", ".join(rng.sample(GENRES, rng.choice((1, 1, 2, 2, 3, 3, 4)))),
                    self._directors(),
                    writer,
                    title,
                    "N/A" if rng.random() < _PLOT_NA else self._plot(russian),
                    None,
                    "N/A" if rng.random() < _RATING_NA else f"{min(9.6, max(1.0, rng.gauss(6.4, 1.2))):.1f}",
                    writers,
                )
            )
            links.extend((movie_id, str(actor_id)) for actor_id in self._cast())
            if len(movies) == _BATCH:
                yield movies, links
                movies, links = [], []
        if movies:
            yield movies, links

    def _person(self, russian: bool | None = None) -> str:
        rng = self._rng
        if russian is None:
            russian = rng.random() < _RUSSIAN
        if russian:
            first, ending = rng.choice(_RU_PEOPLE)
            return f"{first} {rng.choice(_RU_LAST)}{ending}"
        return f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"

    def _writer_id(self, index: int) -> str:
        # The legacy ids are 40 hex digits; derived, not stored, so that no list of a million ids is kept.
        return hashlib.sha1(f"{self._seed}:{index}".encode(), usedforsecurity=False).hexdigest()

    def _english_title(self) -> str:
        rng = self._rng
        shape = rng.random()
        if shape < 0.3:
            return f"{rng.choice(_EN_ADJECTIVES)} {rng.choice(_EN_NOUNS)}"
        if shape < 0.55:
            return f"The {rng.choice(_EN_NOUNS)} of the {rng.choice(_EN_NOUNS)}"
        if shape < 0.75:
            return f"The {rng.choice(_EN_ADJECTIVES)} {rng.choice(_EN_NOUNS)}"
        if shape < 0.9:
            return rng.choice(_EN_NOUNS)
        return f"{rng.choice(_EN_NOUNS)} {rng.randint(2, 5)}"

    def _russian_title(self) -> str:
        rng = self._rng
        shape = rng.random()
        if shape < 0.3:
            return f"{rng.choice(_RU_MASCULINE)} {rng.choice(_RU_MASCULINE_NOUNS)}"
        if shape < 0.6:
            return f"{rng.choice(_RU_FEMININE)} {rng.choice(_RU_FEMININE_NOUNS)}"
        if shape < 0.9:
            return f"{rng.choice(_RU_NOMINATIVE)} {rng.choice(_RU_GENITIVE)}"
        return rng.choice(_RU_NOMINATIVE)

    def _plot(self, russian: bool) -> str:
        rng = self._rng
        templates, fill = (_RU_PLOT, _RU_FILL) if russian else (_EN_PLOT, _EN_FILL)
        sentences = []
        for _ in range(rng.randint(1, 4)):
            values = {slot: rng.choice(words) for slot, words in fill.items()}
            sentences.append(rng.choice(templates).format(name=self._person(russian), **values))
        return " ".join(sentences)

    def _directors(self) -> str:
        rng = self._rng
        if rng.random() < _DIRECTOR_NA:
            return "N/A"
        if rng.random() >= _SEVERAL_DIRECTORS:
            return self._person()
        names = [self._person() for _ in range(rng.randint(2, 3))]
        if rng.random() < _CO_DIRECTOR:
            names[-1] += "(co-director)"
        return ", ".join(names)

    def _writer_columns(self) -> tuple[str, str]:
        """(writer, writers): one id in the first, or a JSON list in the second, never both."""
        rng = self._rng
        if rng.random() < _SINGLE_WRITER:
            index = self._na_writer if rng.random() < _SINGLE_WRITER_NA else rng.randrange(self._writer_count)
            return self._writer_id(index), ""
        ids = [self._writer_id(rng.randrange(self._writer_count)) for _ in range(rng.randint(2, 5))]
        if rng.random() < _REPEATS_IN_LIST:
            ids.insert(rng.randint(0, len(ids)), rng.choice(ids))
        return "", json.dumps([{"id": writer_id} for writer_id in ids])

    def _cast(self) -> list[int]:
        rng = self._rng
        if rng.random() < _ONLY_NA_ACTOR:
            return [self._na_actor]
        cast = [rng.randint(1, self._actor_count) for _ in range(rng.choice((1, 2, 3, 4, 4, 4, 4, 5, 6, 8)))]
        return [actor_id for actor_id in cast for _ in range(2 if rng.random() < _REPEATED_LINK else 1)]

"""How fully the catalogue describes a movie: the one prior both engines weigh relevance by.

The catalogue carries no popularity (no votes, no views), and among movies holding the same words the film people
look for is the one the catalogue knows best: "empire strikes back" names the 1980 film, with its director, writers,
cast and plot, and also games and shorts of the same title whose records hold a title and little else. A record's
completeness is a fair stand-in where nothing better exists, and it costs nothing at query time: the loader writes
`record_weight` into every document, and a search where every word matched multiplies a movie's relevance by
log2(2 + record_weight) on both engines (tantivy weighs its best hits by score, `tantivy_ordering.page_by_prior`;
OpenSearch with `field_value_factor`), so a fully described movie scores at most log2(2 + RECORD_WEIGHT_SCALE) ≈ 1.38
times a bare one.

The fallback (movies holding only some of the words) ranks by how many words matched first, and a multiplier on the
whole score would let a fuller record holding fewer words pass one holding more: there only the text score is
multiplied, so among movies matching as many words a bare game or fan film no longer passes the film on a shorter
title.
"""

from __future__ import annotations

from search_svc.domain.movie import Movie

# The multiplier's range: log2(2 + 0) = 1 for a bare record, log2(2.6) ≈ 1.38 for a full one. Enough to put a
# film above a same-named stub, too little to pass a movie matching the words markedly better.
RECORD_WEIGHT_SCALE = 0.6
# A plot shorter than this is a placeholder or a one-line note ("A Star Wars game for the Atari 2600.").
MIN_PLOT = 80
# Credited actors past this many say nothing more about how well a movie is described.
ACTORS_COUNTED = 3


def completeness(movie: Movie) -> float:
    """0 for a title alone, 1 for a movie with a director, writers, a cast and a plot: the mean of the four."""
    parts = (
        1.0 if movie.director else 0.0,
        1.0 if movie.writers else 0.0,
        min(len(movie.actors), ACTORS_COUNTED) / ACTORS_COUNTED,
        1.0 if len(movie.description) >= MIN_PLOT else 0.0,
    )
    return sum(parts) / len(parts)


def record_weight(movie: Movie) -> float:
    """What the loader writes in `record_weight`: completeness scaled to the multiplier's range."""
    return round(RECORD_WEIGHT_SCALE * completeness(movie), 4)

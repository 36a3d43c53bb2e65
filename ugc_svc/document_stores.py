"""Which engine holds the UGC documents (resume positions, favourites, ratings), by profile, and the adapters on it.

The embedded profile opens one SQLite file, the production one a MongoDB client; each is shared by the adapters
and closed when the service stops. An engine's library is imported only when that engine is chosen.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ugc_svc.ports.favourites import Favourites
from ugc_svc.ports.ratings import Ratings
from ugc_svc.ports.resume_positions import ResumePositions
from ugc_svc.settings import UgcSettings


@dataclass(frozen=True)
class DocumentStore:
    resume_positions: ResumePositions
    favourites: Favourites
    ratings: Ratings

    async def prepare(self) -> None:
        await self.resume_positions.prepare()
        await self.favourites.prepare()
        await self.ratings.prepare()


@contextlib.asynccontextmanager
async def open_document_store(settings: UgcSettings) -> AsyncIterator[DocumentStore]:
    """The adapters of the profile's engine; nothing connects before the first call (or `prepare`)."""
    timeout = settings.document_store_timeout_seconds
    if settings.profile == "embedded":
        from ugc_svc.adapters.sqlite_database import SqliteDatabase  # noqa: PLC0415
        from ugc_svc.adapters.sqlite_favourites import SqliteFavourites  # noqa: PLC0415
        from ugc_svc.adapters.sqlite_ratings import SqliteRatings  # noqa: PLC0415
        from ugc_svc.adapters.sqlite_resume_positions import SqliteResumePositions  # noqa: PLC0415

        sqlite = SqliteDatabase(settings.sqlite_path, timeout)
        try:
            yield DocumentStore(SqliteResumePositions(sqlite), SqliteFavourites(sqlite), SqliteRatings(sqlite))
        finally:
            await sqlite.close()
        return
    from ugc_svc.adapters.mongodb_database import MongoDatabase, open_client  # noqa: PLC0415
    from ugc_svc.adapters.mongodb_favourites import MongoDbFavourites  # noqa: PLC0415
    from ugc_svc.adapters.mongodb_ratings import MongoDbRatings  # noqa: PLC0415
    from ugc_svc.adapters.mongodb_resume_positions import MongoDbResumePositions  # noqa: PLC0415

    client = open_client(settings.mongodb_url, timeout)
    try:
        database = MongoDatabase(client, settings.mongodb_database, timeout)
        yield DocumentStore(MongoDbResumePositions(database), MongoDbFavourites(database), MongoDbRatings(database))
    finally:
        await client.close()

"""User-generated content: playback events, resume positions, viewing time, favourites, ratings."""

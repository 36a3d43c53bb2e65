"""What the sink keeps, free of engines and transport: a playback event as the analytics store holds it, the
batch of them a bus partition delivered, and the viewing-time rules (docs/viewing-time.md) the store's reads
follow. Plain values and rules: no driver, no settings."""

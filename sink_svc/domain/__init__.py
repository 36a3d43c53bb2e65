"""What the sink keeps, free of engines and transport: a playback event as the analytics store holds it, and the
identity (its event id) that makes a second delivery of one event count once. Plain values and rules: no
driver, no settings."""

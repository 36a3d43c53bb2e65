"""The sink's use case that writes: decode a batch of events with their writers' schemas and store it in the
analytics store exactly once, so that a redelivered batch counts nothing twice. It is given the ports it needs
and knows no engine, so unit tests drive it with hand-written fakes of the ports."""

"""The sink: event bus to analytics store, Avro-validated, exactly once."""

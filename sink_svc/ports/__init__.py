"""What the sink needs from outside, one `typing.Protocol` per module, each stating its semantics: the event source
(batches of events from the bus, its position committed only after a batch is stored), the event schemas (a
writer's Avro schema by the id in each message) and the analytics store (a batch insert that a repeat does not
double)."""

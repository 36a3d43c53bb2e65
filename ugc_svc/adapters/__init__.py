"""The ports' implementations, one module each, named `<engine>_<port>.py` (the engine /metrics reports is read
from that name): embedded ones (SQLite documents; a SQLite log holding the same Avro wire-format bytes as Kafka)
and production ones (MongoDB or FerretDB through pymongo's async API; Kafka through confluent-kafka, Avro and
the schema registry). Each turns its driver's errors into the port's few errors; `bootstrap.py` picks them by
profile, and nothing else imports them."""

"""The ports' implementations, one module each, named `<engine>_<port>.py`: embedded ones (the SQLite log the UGC
service writes, the Avro schemas bundled with the code, chDB) and production ones (Kafka through confluent-kafka,
the schema registry's Confluent API, the ClickHouse server through clickhouse-driver). `bootstrap.py` picks them
by profile, and nothing else imports them."""

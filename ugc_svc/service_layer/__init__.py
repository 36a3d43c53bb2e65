"""The UGC use cases that write: record a batch of playback events (accepted whole or refused whole), set a resume
position, add or remove a favourite, rate or unrate a movie. Each is given the ports it needs and knows neither
gRPC nor an engine, so unit tests drive it with hand-written fakes of the ports."""

"""What UGC means, free of engines, transport and wiring: playback events (play, pause, stop, seek forward, seek
back) and the rules that make one valid, resume positions (a later client time wins over an earlier one that
arrives late; a finished movie leaves "continue watching"), favourites, and ratings from 0 to 10 with each
movie's count and average. Plain values and rules: no gRPC, no driver, no settings."""

"""ABX listening test and "Try it" page: a small local web app (standard-library server, SQLite, plain HTML/JS).

    drum-accomp abx build --split validation --num-trials 12 --seconds 10 -o abx_trials/
    drum-accomp abx serve abx_trials/ --port 7860

- ``trials``: builds a trial set folder from real held-back songs (A = the song's real drums on its backing,
  B = the default pipeline's drums on the same backing) with a ``trials.json`` manifest.
- ``store``: SQLite answers (listeners, presentations, ABX answers, ratings), each written in its own transaction.
- ``stats``: accuracy and exact one-sided binomial p-value per condition; mean ratings.
- ``server``: the pages (ABX, rating, summary, Try it) and their JSON API, bound to 127.0.0.1 by default.
"""

"""The review page (`camblur review`): app.py serves it, store.py reads what it shows."""

"""lstm_tutorial: the one helper package behind the book "LSTM networks, built by hand".

Every chapter imports what it teaches from here, so the code a page shows is the code that
the tests check. Modules, one idea each:

- ``lstm_tutorial.display``: ``show_source`` renders a function's real source in a page.
- ``lstm_tutorial.plotting``: ``use_book_style`` sets the one figure style of the book.
- ``lstm_tutorial.seeding``: ``seed_everything`` seeds Python, NumPy and PyTorch together.
- ``lstm_tutorial.numpy_lstm``: the hand-written NumPy LSTM (Part I).
"""

from lstm_tutorial.display import show_source
from lstm_tutorial.plotting import use_book_style
from lstm_tutorial.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["__version__", "seed_everything", "show_source", "use_book_style"]

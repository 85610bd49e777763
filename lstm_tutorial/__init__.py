"""lstm_tutorial: the one helper package behind the book "LSTM networks, built by hand".

Every chapter imports what it teaches from here, so the code a page shows is the code that
the tests check. One idea per module:

Shared by every chapter
    ``display`` (``show_source``), ``plotting`` (``use_book_style``, ``COLORS``),
    ``seeding`` (``seed_everything``), ``story`` (the running example), ``checks`` (the
    argument checks every public function runs first), ``store`` (atomic, sealed files
    for checkpoints and caches), ``timings`` (each notebook's cold run time:
    ``python -m lstm_tutorial.timings``).
Part I, the cell in NumPy
    ``numpy_lstm`` (the LSTM cell and the plain layer), ``numpy_lstm_fast`` (the same layer
    tuned for speed, tested equal), ``rnn`` (a plain RNN and state Jacobians), ``handset``
    (an LSTM with hand-set weights), ``gate_exercises`` (the checks of the exercises that
    have students write the cell), ``diagram`` (the cell drawn with its flows), ``bench``
    (NumPy against torch.nn.LSTM: ``python -m lstm_tutorial.bench``).
Part II, learning
    ``bptt`` (backpropagation through time), ``graph_figure`` (the graph BPTT walks),
    ``gradcheck`` (finite differences), ``backprop_exercises`` (the checks of the
    exercises that have students write backward steps),
    ``chardata`` (text that ships with Python), ``charlm`` (a character language model),
    ``optim`` (Adam), ``train_numpy`` (training loop and checkpoints), ``decoding``.
Part III, PyTorch
    ``torch_lstm`` (the cell as an nn.Module), ``training`` (the shared PyTorch loop),
    ``stories`` (the puppy-story corpus), ``word_lm`` (a word-level language model).
Part IV, long-term memory
    ``tasks`` (adding problem, embedded Reber grammar, copy memory), ``variants``
    (LSTM variants for ablations), ``sweep`` (cached experiment grids), ``experiments``
    (the protocol, the multi-seed grids and their records: ``python -m
    lstm_tutorial.experiments``), ``story_experiments`` (Part III's multi-seed story runs),
    ``report`` (tables and figures of the records).
"""

from lstm_tutorial.display import show_source
from lstm_tutorial.plotting import use_book_style
from lstm_tutorial.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["__version__", "seed_everything", "show_source", "use_book_style"]

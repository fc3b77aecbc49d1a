"""lrcore: learning-rate schedules, minibatch SGD from scratch, and the LR range test.

The library behind the book *Choosing and scheduling the learning rate*.
"""

__version__ = "0.1.0"

# --- schedules (lrcore/schedules.py) ---

# --- backend, data, models, training (lrcore/backend.py, data.py, models.py, train.py) ---
from .data import Dataset, load_digits

# --- range test (lrcore/rangetest.py) ---

# --- surfaces (lrcore/surfaces.py) ---

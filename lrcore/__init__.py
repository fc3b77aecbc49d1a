"""lrcore: learning-rate schedules, minibatch SGD from scratch, and the LR range test.

The library behind the book *Choosing and scheduling the learning rate*.
"""

__version__ = "0.1.0"

# --- schedules (lrcore/schedules.py) and the stateful ReduceLROnPlateau (lrcore/plateau.py) ---
from .schedules import (NotIntegerError, Schedule, constant, cosine_decay, cosine_restarts,
                        cyclic, exponential_decay, exponential_range, inverse_time_decay, join,
                        linear_decay, linear_range, multistep_decay, one_cycle,
                        polynomial_decay, step_decay, warmup)
from .plateau import ReduceLROnPlateau

# --- backend, data, models, training (lrcore/backend.py, data.py, mnist.py, models.py, training.py) ---
from .data import Dataset, load_digits, make_least_squares, make_spirals, make_teacher_student
from .mnist import load_mnist, read_idx
from .backend import cupy_usable, get_backend, to_numpy
from .models import MLP, LinearRegression, SoftmaxRegression
from .training import History, sweep, train

# --- range test (lrcore/rangetest.py) ---
from .rangetest import RangeTest, range_test, range_test_fn

# --- surfaces (lrcore/surfaces.py) and the house plots (lrcore/plots.py, matplotlib imported lazily) ---
from . import plots, surfaces

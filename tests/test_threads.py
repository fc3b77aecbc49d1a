"""Threads: what the training module's docstring promises (see "Threads" in lrcore.training).

Each test starts its threads together (a barrier) so that the runs overlap, and repeats the
race a few times: before range_test worked on a copy, two range tests of one model left it
modified in most trials.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lrcore.data import load_digits
from lrcore.models import MLP, SoftmaxRegression
from lrcore.rangetest import range_test
from lrcore.training import sweep, train

DIGITS = load_digits(seed=0)
TRIALS = 4


def in_threads(*calls, delay=0.0):
    """Run the calls in as many threads, started together, call ``i`` after ``i * delay``
    seconds; return their results in order."""
    barrier = threading.Barrier(len(calls))

    def start(i, call):
        barrier.wait()
        time.sleep(i * delay)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(start, i, call) for i, call in enumerate(calls)]
        return [f.result() for f in futures]


def trained(model, **kw):
    """Train ``model`` (in place); return its History and its parameters."""
    h = train(model, DIGITS, epochs=3, batch_size=32, **kw)
    return h, [t.copy() for t in model.theta]


def assert_same_run(a, b):
    (ha, theta_a), (hb, theta_b) = a, b
    for name in ("lr", "loss", "train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(getattr(ha, name), getattr(hb, name), err_msg=name)
    for ta, tb in zip(theta_a, theta_b):
        np.testing.assert_array_equal(ta, tb)


def test_two_models_trained_in_two_threads_match_sequential_runs_bitwise():
    runs = (lambda: trained(MLP([64, 32, 10], seed=0), lr=0.1, momentum=0.9, seed=1),
            lambda: trained(SoftmaxRegression(64, 10, seed=2), lr=0.5, seed=2))
    sequential = [run() for run in runs]
    for _ in range(TRIALS):
        for together, alone in zip(in_threads(*runs), sequential):
            assert_same_run(together, alone)


def test_two_range_tests_of_one_model_in_two_threads_leave_it_unchanged():
    """The second test starts after a fraction of the first one's duration: a test that saved and
    restored the model would save (and restore) the other's half-trained parameters."""
    model = MLP([64, 32, 10], seed=0)
    before = [t.copy() for t in model.theta]
    kw = dict(lr_start=1e-4, lr_end=1.0, steps=300)     # ~30 ms: several GIL switch intervals
    started = time.perf_counter()
    alone = range_test(model, DIGITS, **kw)
    duration = time.perf_counter() - started
    for fraction in (0.0, 0.2, 0.35, 0.5, 0.7):
        results = in_threads(lambda: range_test(model, DIGITS, **kw),
                             lambda: range_test(model, DIGITS, momentum=0.9, **kw),
                             delay=fraction * duration)
        for t, b in zip(model.theta, before):
            np.testing.assert_array_equal(t, b)
        np.testing.assert_array_equal(results[0].losses, alone.losses)   # and each result is right
        assert results[0].suggestions == alone.suggestions


def test_two_sweeps_of_one_model_in_two_threads_match_the_sequential_sweep():
    model = MLP([64, 32, 10], seed=0)
    before = [t.copy() for t in model.theta]
    kw = dict(lrs=[0.01, 0.1, 1.0], epochs=2)
    alone = sweep(model, DIGITS, **kw)
    for _ in range(TRIALS):
        for together in in_threads(lambda: sweep(model, DIGITS, **kw),
                                   lambda: sweep(model, DIGITS, **kw)):
            for a, b in zip(together, alone):
                np.testing.assert_array_equal(a.loss, b.loss)
                np.testing.assert_array_equal(a.val_loss, b.val_loss)
        for t, b in zip(model.theta, before):
            np.testing.assert_array_equal(t, b)


def test_another_threads_global_random_draws_are_not_replayed():
    """A thread drawing from np.random while range tests run elsewhere gets the global stream
    exactly as if nothing else ran: nothing saves and restores the global state under it."""
    done = threading.Event()
    draws = []

    def drawer():
        while not done.is_set():
            draws.append(np.random.random())
            time.sleep(1e-4)                  # a draw every 0.1 ms or so, not a flood

    np.random.seed(2024)
    thread = threading.Thread(target=drawer)
    thread.start()
    try:
        for _ in range(3):
            range_test(SoftmaxRegression(64, 10), DIGITS, lr_start=1e-4, lr_end=1e3, steps=60)
    finally:
        done.set()
        thread.join()
    draws.append(np.random.random())          # and the main thread's next draw follows on
    expected = np.random.RandomState(2024).random_sample(len(draws))
    np.testing.assert_array_equal(draws, expected)

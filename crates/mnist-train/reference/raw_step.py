"""The raw training step timed as `bench` times it in every part: one batch,
forward and loss, backward, optimiser step, each phase timed on its own.
Imported by the parts' PyTorch reference scripts (needs torch, numpy)."""
import time

import numpy as np

WARM_UP = 3


def time_raw_step(model, optimizer, loss_of, steps):
    """Milliseconds per step of `steps` steps after a warm-up: (total,
    forward, backward, optimiser); `loss_of(model)` is the forward pass and
    the loss on the prepared batch."""
    phases = np.zeros(3)
    for step in range(WARM_UP + steps):
        if step == WARM_UP:
            phases[:] = 0
        t0 = time.perf_counter()
        loss = loss_of(model)
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        phases += (t1 - t0, t2 - t1, t3 - t2)
    phases *= 1e3 / steps
    return (phases.sum(), *phases)

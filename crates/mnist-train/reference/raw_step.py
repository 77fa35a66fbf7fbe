"""The raw training step timed as `bench` times it in every part: one batch,
forward and loss, backward, optimiser step, each phase timed on its own.
Imported by the parts' PyTorch reference scripts (needs torch, numpy).

Their `step` command takes the same options in every script:

    step [STEPS] [--rounds R] [--device DEVICE] [--json]

STEPS timed steps (default 50) per round, the median of R rounds (default
3), on DEVICE (`cpu`, `cuda`, `cuda:1`; default cpu). With --json each model
prints one line of JSON, which `bench` reads when it runs the script in turn
with its own rounds."""
import argparse
import json
import time

import numpy as np
import torch

WARM_UP = 3


def time_raw_step(model, optimizer, loss_of, steps, device="cpu"):
    """Milliseconds per step of `steps` steps after a warm-up: (total,
    forward, backward, optimiser); `loss_of(model)` is the forward pass and
    the loss on the prepared batch. On a GPU each phase waits for the device
    to finish, as `bench` does."""
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    phases = np.zeros(3)
    for step in range(WARM_UP + steps):
        if step == WARM_UP:
            phases[:] = 0
        sync()
        t0 = time.perf_counter()
        loss = loss_of(model)
        sync()
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        optimizer.step()
        sync()
        t3 = time.perf_counter()
        phases += (t1 - t0, t2 - t1, t3 - t2)
    phases *= 1e3 / steps
    return (phases.sum(), *phases)


def step_command(argv, models, batch, steps_per_epoch):
    """The `step` command: `models` is [(name, time_fn)], where
    `time_fn(steps, device)` returns `time_raw_step`'s tuple."""
    parser = argparse.ArgumentParser(prog="step")
    parser.add_argument("steps", nargs="?", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if not args.json:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {device}, "
              f"batch {batch}, an epoch of {steps_per_epoch:,} steps:")
    for name, time_fn in models:
        rounds = np.array([time_fn(args.steps, device) for _ in range(args.rounds)])
        step, forward, backward, optimiser = np.median(rounds, axis=0)
        if args.json:
            print(json.dumps({
                "model": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
                "device": str(device), "raw_ms": step, "forward_ms": forward,
                "backward_ms": backward, "optimizer_ms": optimiser,
            }))
        else:
            print(f"  {name}: raw step {step:.2f} ms (forward {forward:.2f}, backward "
                  f"{backward:.2f}, optimiser {optimiser:.2f}); epoch "
                  f"{step * steps_per_epoch / 1e3:.2f} s")

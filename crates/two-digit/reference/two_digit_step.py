"""Part 4's two-headed networks in PyTorch, the course's own framework: the raw
training step, for paired comparisons with `two-digit bench` on the same
machine (needs torch, numpy).

    python two_digit_step.py [STEPS]   the raw step of each model on one batch
                                       of 64 two-digit images: median of 3
                                       rounds of STEPS steps (default 50),
                                       split into forward, backward and
                                       optimiser, and the epoch of 562 steps
"""
import gzip
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST = Path(__file__).resolve().parents[3] / "datasets" / "mnist"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mnist-train" / "reference"))
from raw_step import time_raw_step  # noqa: E402
BATCH, STEPS_PER_EPOCH = 64, 36_000 // 64


def idx(name, header):
    return np.frombuffer(gzip.open(MNIST / name).read(), np.uint8, offset=header)


def two_digit_batch():
    """64 images of 42×28: image i on rows 0–27, image 64 + i on rows 14–41,
    pixel-wise max where they overlap; labels (first, second)."""
    digits = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:2 * BATCH]
    labels = idx("train-labels-idx1-ubyte.gz", 8)[:2 * BATCH].astype(np.int64)
    canvas = np.zeros((BATCH, 42, 28), np.uint8)
    canvas[:, :28] = digits[:BATCH]
    canvas[:, 14:] = np.maximum(canvas[:, 14:], digits[BATCH:])
    x = torch.tensor(canvas.astype(np.float32) / 255).reshape(BATCH, 1, 42, 28)
    return x, torch.tensor(labels[:BATCH]), torch.tensor(labels[BATCH:])


class TwoHeads(nn.Module):
    """A body, then two linear heads of 10, one per digit."""

    def __init__(self, body, width):
        super().__init__()
        self.body, self.first, self.second = body, nn.Linear(width, 10), nn.Linear(width, 10)

    def forward(self, x):
        h = self.body(x)
        return self.first(h), self.second(h)


def cnn():
    return TwoHeads(nn.Sequential(
        nn.Conv2d(1, 32, (3, 3)), nn.ReLU(), nn.MaxPool2d((2, 2)),
        nn.Conv2d(32, 64, (3, 3)), nn.ReLU(), nn.MaxPool2d((2, 2)),
        nn.Flatten(), nn.Linear(2880, 128), nn.Dropout(0.5),
    ), 128)


def mlp():
    return TwoHeads(nn.Sequential(
        nn.Flatten(), nn.Linear(1176, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
    ), 64)


def time_step(make_model, batch, steps):
    """Milliseconds per raw step: (total, forward, backward, optimiser)."""
    torch.manual_seed(1)
    model = make_model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, first, second = batch

    def loss_of(m):
        out1, out2 = m(x)
        return (F.cross_entropy(out1, first) + F.cross_entropy(out2, second)) / 2

    return time_raw_step(model, sgd, loss_of, steps)


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    batch = two_digit_batch()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
          f"an epoch of {STEPS_PER_EPOCH} steps:")
    for name, make_model in (("cnn", cnn), ("mlp", mlp)):
        rounds = np.array([time_step(make_model, batch, steps) for _ in range(3)])
        step, forward, backward, optimiser = np.median(rounds, axis=0)
        print(f"  {name}: raw step {step:.2f} ms (forward {forward:.2f}, backward {backward:.2f}, "
              f"optimiser {optimiser:.2f}); epoch {step * STEPS_PER_EPOCH / 1e3:.2f} s")

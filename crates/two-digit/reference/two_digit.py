"""Part 4's two-headed networks in PyTorch, the course's own framework: a
reference for paired comparisons with the Burn part on the same machine
(needs torch, numpy).

    python two_digit.py full SEED... [--epochs N] [--data PREFIX] [--device DEVICE]
                                       the course run of the CNN, once per
                                       seed: 36,000 composed images, 30
                                       epochs (or N), each epoch validated
                                       on the last 4,000, the final model
                                       tested on the 4,000 test images;
                                       prints each head's accuracy, both
                                       right, and seconds per epoch
    python two_digit.py step [STEPS] [--rounds R] [--device DEVICE] [--json]
                                       the raw step of each model on one batch
                                       of 64 two-digit images: median of 3
                                       rounds of STEPS steps (default 50),
                                       split into forward, backward and
                                       optimiser, and the epoch of 562 steps
                                       (`bench` runs it in turn with its own
                                       rounds)
    python two_digit.py evaluate FILE PREFIX
                                       the Burn part's trained model,
                                       exported to safetensors in PyTorch's
                                       layout, loaded into its network below
                                       (cnn or mlp, by the file's metadata)
                                       and tested on the two-digit set at
                                       PREFIX: accuracy of each head, and of
                                       both right

The course's images are composed by the Rust side (seed 1; 40,000 from
MNIST's training split, 4,000 from its test split); `mnist-data compose`
writes them as IDX, where `full` reads them (PREFIX-train, PREFIX-test;
PREFIX is /tmp/two-digit unless given):

    cargo run --release -p mnist-data -- compose --split train --count 40000 --out /tmp/two-digit-train
    cargo run --release -p mnist-data -- compose --split test --out /tmp/two-digit-test
    OMP_NUM_THREADS=1 python crates/two-digit/reference/two_digit.py full 1 2 3 4 5

and `evaluate` tests an exported model on them:

    cargo run -p mnist-data -- compose --out /tmp/two-digit-test
    cargo run --release -p mnist-export -- --part two-digit --pytorch /tmp/two-digit-cnn.safetensors
    python crates/two-digit/reference/two_digit.py evaluate \
        /tmp/two-digit-cnn.safetensors /tmp/two-digit-test
"""
import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST = Path(__file__).resolve().parents[3] / "datasets" / "mnist"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mnist-train" / "reference"))
from raw_step import step_command, time_raw_step  # noqa: E402
from safetensors_file import load_exported  # noqa: E402
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


def time_step(make_model, steps, device):
    """Milliseconds per raw step: (total, forward, backward, optimiser)."""
    torch.manual_seed(1)
    model = make_model().to(device)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, first, second = (t.to(device) for t in two_digit_batch())
    return time_raw_step(model, sgd, lambda m: loss_of(m, x, first, second), steps, device)


def read_idx(path):
    """An IDX file of unsigned bytes, plain or gzip, as an array of its shape."""
    raw = (gzip.open if str(path).endswith(".gz") else open)(path, "rb").read()
    rank = raw[3]
    shape = np.frombuffer(raw[4:4 + 4 * rank], ">u4")
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(shape)


def composed_set(prefix):
    """The two-digit set `mnist-data compose --out PREFIX` wrote (with or
    without --gzip): images [n, 1, 42, 28] in [0, 1], labels [n, 2]."""
    found = []
    for name in ("images-idx3-ubyte", "labels-idx2-ubyte"):
        paths = [Path(f"{prefix}-{name}{gz}") for gz in ("", ".gz")]
        path = next((p for p in paths if p.is_file()), None)
        if path is None:
            split = "--split train --count 40000 " if str(prefix).endswith("-train") else ""
            raise SystemExit(f"error: no {paths[0]} (nor .gz): write it with "
                             f"`cargo run -p mnist-data -- compose {split}--out {prefix}`")
        found.append(read_idx(path))
    images, labels = found
    if images.shape[1:] != (42, 28) or labels.shape != (len(images), 2):
        raise SystemExit(f"error: {prefix}: images {images.shape} and labels {labels.shape} "
                         "are not a two-digit set (n×42×28, n×2)")
    return torch.tensor(images.astype(np.float32) / 255).reshape(-1, 1, 42, 28), labels


def loss_of(model, x, first, second):
    """The mean of the two heads' cross-entropies."""
    out1, out2 = model(x)
    return (F.cross_entropy(out1, first) + F.cross_entropy(out2, second)) / 2


def accuracies(model, images, labels):
    """Accuracy (%) of `model` on `images` (500 at a time): (first digit,
    second digit, both)."""
    model.eval()
    with torch.no_grad():
        outputs = [model(batch) for batch in images.split(500)]
    first, second = (torch.cat(head).cpu() for head in zip(*outputs))
    right = np.stack([first.argmax(1).numpy(), second.argmax(1).numpy()], 1) == labels
    return 100 * right[:, 0].mean(), 100 * right[:, 1].mean(), 100 * right.all(1).mean()


def train(seed, epochs, prefix, device="cpu"):
    """The course's run of the CNN: the first 36,000 of the 40,000 composed
    training images in a new order each epoch, batches of 64, SGD lr 0.01,
    momentum 0.9; each epoch validated on the last 4,000 at batch 500 (as
    the Burn part's epoch line counts it). Returns the model after the last
    epoch and seconds per epoch."""
    torch.manual_seed(seed)
    images, labels = composed_set(f"{prefix}-train")
    x, y = images[:36_000].to(device), torch.tensor(labels[:36_000].astype(np.int64)).to(device)
    held_out = images[36_000:].to(device), labels[36_000:]
    model = cnn().to(device)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    seconds = []
    for _ in range(epochs):
        start = time.time()
        model.train()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x) - BATCH + 1, BATCH):
            b = order[i:i + BATCH]
            loss = loss_of(model, x[b], y[b, 0], y[b, 1])
            sgd.zero_grad()
            loss.backward()
            sgd.step()
        accuracies(model, *held_out)
        seconds.append(time.time() - start)
    return model, seconds


def evaluate(path, prefix):
    """Accuracy (%) of the exported model at `path` on the set at `prefix`:
    (first digit, second digit, both)."""
    def build(config):
        two_digits = {"height": 42, "width": 28, "heads": 2}
        for kind, make_model, fits in (("Cnn", cnn, two_digits),
                                       ("Mlp", mlp, {**two_digits, "hidden": [64, 64],
                                                     "activation": "Relu"})):
            if all(config.get(kind, {}).get(key) == value for key, value in fits.items()):
                return make_model()
        return f"holds {config}, not one of Part 4's two networks"

    return accuracies(load_exported(path, build), *composed_set(prefix))


if __name__ == "__main__":
    if sys.argv[1:2] == ["evaluate"]:
        first, second, both = evaluate(sys.argv[2], sys.argv[3])
        print(f"{sys.argv[2]}: first digit {first:.3f} %, second {second:.3f} %, "
              f"both {both:.3f} % on the set {sys.argv[3]}")
        sys.exit()
    if sys.argv[1:2] == ["step"]:
        models = [(name, lambda steps, device, make=make: time_step(make, steps, device))
                  for name, make in (("cnn", cnn), ("mlp", mlp))]
        step_command(sys.argv[2:], models, BATCH, STEPS_PER_EPOCH)
        sys.exit()
    if sys.argv[1:2] != ["full"]:
        sys.exit(__doc__)
    parser = argparse.ArgumentParser(prog="two_digit.py full")
    parser.add_argument("seeds", nargs="*", type=int, default=[1])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--data", default="/tmp/two-digit")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(sys.argv[2:])
    test = composed_set(f"{args.data}-test")
    for seed in args.seeds:
        model, seconds = train(seed, args.epochs, args.data, args.device)
        first, second, both = accuracies(model, test[0].to(args.device), test[1])
        print(f"seed {seed}: first digit {first:.2f} %, second {second:.2f} %, both {both:.2f} % "
              f"on {len(test[1]):,} test images after {args.epochs} epoch(s); "
              f"epoch {np.median(seconds):.1f} s (median), {args.device}, "
              f"threads {torch.get_num_threads()}", flush=True)

"""The course CNN in PyTorch, the course's own framework: a reference for
paired comparisons with the Burn part on the same machine (needs torch, numpy).

    python course_cnn.py short SEED...  2,000 training images for 1, 2 and 3
                                        epochs, tested on 500 test images
    python course_cnn.py full SEED... [--epochs N] [--device DEVICE]
                                        the course run: 54,000 images, 10
                                        epochs (or N), the final model
                                        tested on 10,000; prints seconds
                                        per epoch
    python course_cnn.py step [STEPS] [--rounds R] [--device DEVICE] [--json]
                                        the raw training step on one batch of
                                        32, as `cnn bench` times it: median
                                        of 3 rounds, split into forward,
                                        backward and optimiser (`bench` runs
                                        it in turn with its own rounds)
    python course_cnn.py evaluate FILE  the Burn part's trained model,
                                        exported to safetensors in
                                        PyTorch's layout, loaded into the
                                        course CNN below and tested on the
                                        10,000 test images

Exporting the committed model first:

    cargo run --release -p mnist-export -- --pytorch /tmp/cnn.safetensors
    python crates/cnn/reference/course_cnn.py evaluate /tmp/cnn.safetensors
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


def idx(name, header):
    return np.frombuffer(gzip.open(MNIST / name).read(), np.uint8, offset=header)


def images(name):
    return idx(name, 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255


train_x, train_y = images("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz", 8)
test_x, test_y = images("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz", 8)


def course_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, (3, 3)), nn.ReLU(), nn.MaxPool2d((2, 2)),
        nn.Conv2d(32, 64, (3, 3)), nn.ReLU(), nn.MaxPool2d((2, 2)),
        nn.Flatten(), nn.Linear(1600, 128), nn.Dropout(0.5), nn.Linear(128, 10),
    )


def train(n, epochs, seed, batch=32, device="cpu"):
    """Trains on n of the first 54,000 training images (the last 6,000
    validate in the course) and returns the model and seconds per epoch
    (each epoch's training pass, then its validation at batch 500, as the
    Burn part's epoch line counts it)."""
    torch.manual_seed(seed)
    chosen = np.random.default_rng(seed).permutation(54_000)[:n]
    held_out = np.arange(54_000, 60_000)
    x = torch.tensor(train_x[chosen]).to(device)
    y = torch.tensor(train_y[chosen].astype(np.int64)).to(device)
    model = course_cnn().to(device)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    seconds = []
    for _ in range(epochs):
        start = time.time()
        model.train()
        order = torch.randperm(n, device=device)
        for i in range(0, n - batch + 1, batch):
            b = order[i:i + batch]
            loss = F.cross_entropy(model(x[b]), y[b])
            sgd.zero_grad()
            loss.backward()
            sgd.step()
        correct(model, train_x[held_out], train_y[held_out], device)
        seconds.append(time.time() - start)
    return model, seconds


def correct(model, images, labels, device):
    """How many of `images` the model reads as `labels`, 500 at a time."""
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(torch.tensor(images[i:i + 500]).to(device)).argmax(1)
                               for i in range(0, len(images), 500)]).cpu().numpy()
    return (predicted == labels).sum()


def accuracy(model, n, device="cpu"):
    return 100 * correct(model, test_x[:n], test_y[:n], device) / n


def time_step(steps, device="cpu"):
    """Milliseconds per raw step: (total, forward, backward, optimiser)."""
    torch.manual_seed(1)
    model = course_cnn().to(device)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    x = torch.tensor(train_x[:32]).to(device)
    y = torch.tensor(train_y[:32].astype(np.int64)).to(device)
    return time_raw_step(model, sgd, lambda m: F.cross_entropy(m(x), y), steps, device)


def evaluate(path):
    """Test accuracy of the exported model at `path` in the course CNN."""
    def build(config):
        cnn = config.get("Cnn", {})
        if (cnn.get("height"), cnn.get("width"), cnn.get("heads")) != (28, 28, 1):
            return f"holds {config}, not the course CNN (28x28, one head)"
        return course_cnn()

    return accuracy(load_exported(path, build), 10_000)


if __name__ == "__main__":
    if sys.argv[1] == "evaluate":
        print(f"{sys.argv[2]}: {evaluate(sys.argv[2]):.2f} % on 10,000 test images")
        sys.exit()
    if sys.argv[1] == "step":
        step_command(sys.argv[2:], [("cnn", time_step)], 32, 54_000 // 32)
        sys.exit()
    parser = argparse.ArgumentParser(prog=f"course_cnn.py {sys.argv[1]}")
    parser.add_argument("seeds", nargs="*", type=int, default=[1])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(sys.argv[2:])
    for seed in args.seeds:
        if sys.argv[1] == "short":
            for epochs in (1, 2, 3):
                model, _ = train(2_000, epochs, seed)
                print(f"seed {seed}, {epochs} epoch(s): {accuracy(model, 500):.1f} % on 500 test images")
        else:
            model, seconds = train(54_000, args.epochs, seed, device=args.device)
            print(f"seed {seed}: {accuracy(model, 10_000, args.device):.2f} % on 10,000 test images "
                  f"after {args.epochs} epoch(s); epoch {np.median(seconds):.1f} s (median), "
                  f"{args.device}, threads {torch.get_num_threads()}")

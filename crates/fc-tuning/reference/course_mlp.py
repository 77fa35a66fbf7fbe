"""Part 2's MLPs in PyTorch, the course's own framework: a model the Burn
part trained, exported to safetensors in PyTorch's layout, loaded into the
`nn.Sequential` its configuration describes and tested (needs torch, numpy).

    python course_mlp.py evaluate FILE  the exported MLP tested on the
                                        10,000 test images

Part 2 commits no trained model: a run trains one in its checkpoints folder
(seconds), which is then exported:

    cargo run --release -p fc-tuning -- --only h10-baseline --reports /tmp/fc
    cargo run --release -p mnist-export -- \\
        --model /tmp/fc/h10-baseline/checkpoints --pytorch /tmp/h10-baseline.safetensors
    python crates/fc-tuning/reference/course_mlp.py evaluate /tmp/h10-baseline.safetensors
"""
import gzip
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

MNIST = Path(__file__).resolve().parents[3] / "datasets" / "mnist"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mnist-train" / "reference"))
from safetensors_file import load_exported  # noqa: E402

ACTIVATIONS = {"Relu": nn.ReLU, "LeakyRelu": lambda: nn.LeakyReLU(0.01)}


def idx(name, header):
    return np.frombuffer(gzip.open(MNIST / name).read(), np.uint8, offset=header)


def mlp(config):
    """The network of an MLP's configuration (model.json's `Mlp`): Flatten,
    then per hidden layer Linear, its activation and Dropout when the model
    has some, then the head."""
    layers, width = [nn.Flatten()], config["height"] * config["width"]
    for hidden in config["hidden"]:
        layers += [nn.Linear(width, hidden), ACTIVATIONS[config["activation"]]()]
        if config["dropout"] > 0:
            layers.append(nn.Dropout(config["dropout"]))
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def evaluate(path):
    """Test accuracy (%) of the exported MLP at `path`."""
    def build(config):
        one_digit = config.get("Mlp", {})
        if (one_digit.get("height"), one_digit.get("width"), one_digit.get("heads")) != (28, 28, 1):
            return f"holds {config}, not an MLP of one head on 28x28 images"
        return mlp(one_digit)

    model = load_exported(path, build).eval()
    images = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    labels = idx("t10k-labels-idx1-ubyte.gz", 8)
    with torch.no_grad():
        predicted = model(torch.tensor(images)).argmax(1).numpy()
    return 100 * (predicted == labels).mean()


if __name__ == "__main__":
    if sys.argv[1:2] != ["evaluate"] or len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(f"{sys.argv[2]}: {evaluate(sys.argv[2]):.2f} % on 10,000 test images")

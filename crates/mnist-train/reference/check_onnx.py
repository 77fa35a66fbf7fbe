"""Checks an ONNX file exported by the course (`cnn export --onnx FILE`,
`two-digit export`, `mnist-train export`) with another runtime, ONNX Runtime:
prints its metadata and its accuracy on a test set (needs onnxruntime, numpy;
with the onnx package it first checks the file's conformance).

    python check_onnx.py MODEL.onnx             MNIST's 10,000 test images
    python check_onnx.py MODEL.onnx PREFIX      a set PREFIX-images-idx3-ubyte
                                                and PREFIX-labels-idx{1,2}-ubyte
                                                (plain or .gz), e.g. Part 4's
                                                test set from
        cargo run --release -p mnist-data -- compose --out /tmp/two --seed 1

The accuracy is that of images with every digit right; the export printed
tract's and Burn's on the same set.
"""
import gzip
import sys
from pathlib import Path

import numpy as np
import onnxruntime

MNIST = Path(__file__).resolve().parents[3] / "datasets" / "mnist"


def read_idx(path):
    path = Path(path)
    if not path.exists() and Path(f"{path}.gz").exists():
        path = Path(f"{path}.gz")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_set(prefix):
    if prefix is None:
        return read_idx(MNIST / "t10k-images-idx3-ubyte"), read_idx(MNIST / "t10k-labels-idx1-ubyte")
    labels_file = next(
        (f"{prefix}-labels-idx{r}-ubyte" for r in (1, 2)
         if Path(f"{prefix}-labels-idx{r}-ubyte").exists()
         or Path(f"{prefix}-labels-idx{r}-ubyte.gz").exists()),
        f"{prefix}-labels-idx1-ubyte",
    )
    return read_idx(f"{prefix}-images-idx3-ubyte"), read_idx(labels_file)


def main(model_path, prefix=None):
    try:
        import onnx
    except ImportError:
        print("(no onnx package: the file's conformance is not checked)")
    else:
        onnx.checker.check_model(onnx.load(model_path), full_check=True)
        print(f"onnx {onnx.__version__}: the file conforms (full check, shapes inferred)")
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    for key in sorted(meta):
        print(f"{key}: {meta[key]}")
    images, labels = load_set(prefix)
    labels = labels.reshape(len(labels), -1)
    x = images.reshape(len(images), 1, *images.shape[1:]).astype(np.float32) / 255
    input_name = session.get_inputs()[0].name
    predicted = []
    for start in range(0, len(x), 500):
        heads = session.run(None, {input_name: x[start:start + 500]})
        predicted.append(np.stack([h.argmax(1) for h in heads], axis=1))
    predicted = np.concatenate(predicted)
    right = (predicted == labels).all(axis=1).mean()
    print(f"onnxruntime {onnxruntime.__version__}: test accuracy {100 * right:.2f} % "
          f"({len(x)} images)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(*sys.argv[1:])

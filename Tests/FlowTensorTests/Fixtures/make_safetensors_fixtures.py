"""Safetensors interop fixtures, both directions.

1. Writes safetensors_python.safetensors with the REAL Python `safetensors`
   package (safetensors.numpy.save_file): F32, F64, F16 and BF16 tensors
   (BF16 through ml_dtypes.bfloat16), ranks 0 to 3, zero-size tensors,
   subnormals, infinities, NaN and signed zeros, plus metadata; and
   safetensors_python.json with the expected values (every value of these
   formats is exactly a float64, written as a JSON number, or "nan"/"inf"/"-inf").
   SafetensorsInteropTests checks that FlowTensor reads the same values.
   (The writer orders __metadata__ keys through a hash map, so reruns may
   differ in those bytes only.)

2. Verifies safetensors_swift.safetensors, written by FlowTensor's
   Safetensors.write (SafetensorsInteropTests checks that Safetensors.encode
   of the same tensors reproduces it byte for byte): it must load with
   safetensors.numpy.load_file with exactly the values below, and its
   metadata must read back through safe_open.

Needs: pip install safetensors ml_dtypes numpy
Run from anywhere: python3 make_safetensors_fixtures.py
With --verify-only it writes nothing and only checks the Swift-written file
(SafetensorsInteropTests runs it that way when python3 has safetensors).
"""
import json
import math
import os
import sys

import ml_dtypes
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def python_tensors():
    f16 = np.float16
    bf16 = ml_dtypes.bfloat16
    return {
        # Rank 3, float64: a subnormal (1e-310), extremes and thirds.
        "f64_cube": np.array(
            [[[1 / 3, -2 / 3], [math.pi, -1e300]], [[1e-310, 5e-324], [-0.0, 1.7976931348623157e308]]],
            dtype=np.float64),
        "f64_scalar": np.array(math.e, dtype=np.float64),  # rank 0
        "f32_matrix": (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / np.float32(3),
        # Smallest subnormal, largest finite, signed zero, infinities, NaN.
        "f32_special": np.array([1.4e-45, 3.4028235e38, -0.0, np.inf, -np.inf, np.nan], dtype=np.float32),
        "f32_empty": np.zeros((0, 3), dtype=np.float32),
        # binary16: 2^-24 (smallest subnormal), 1023·2^-24 (largest
        # subnormal), 2^-14 (smallest normal), 65504 (largest), a rounded
        # third, signed zero, infinities, NaN.
        "f16_values": np.array(
            [[2.0 ** -24, 1023 * 2.0 ** -24, 2.0 ** -14, 65504], [1 / 3, -0.0, -1.5, 1e-5],
             [np.inf, -np.inf, np.nan, 0.1]], dtype=f16),
        "f16_empty": np.zeros((2, 0), dtype=f16),
        "f16_scalar": np.array(-7.25, dtype=f16),
        # bfloat16: rounded π, 1e38, smallest subnormal 2^-133, infinities, NaN.
        "bf16_values": np.array([[1.0, -1.5, math.pi, 1e38], [2.0 ** -133, np.inf, -np.inf, np.nan]], dtype=bf16),
        "bf16_column": np.array([[0.1], [-0.0], [-3e-39]], dtype=bf16),
    }


PYTHON_METADATA = {"source": "make_safetensors_fixtures.py", "framework": "numpy", "unicode": "naïve ✓ \"quoted\""}


def encode(value):
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def write_python_fixture():
    tensors = python_tensors()
    path = os.path.join(HERE, "safetensors_python.safetensors")
    save_file(tensors, path, metadata=PYTHON_METADATA)
    names = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
             np.dtype(ml_dtypes.bfloat16): "BF16"}
    expected = {
        "metadata": PYTHON_METADATA,
        "tensors": {
            name: {
                "dtype": names[array.dtype],
                "shape": list(array.shape),
                # The sign of zero matters: -0.0 is written as -0.0.
                "values": [encode(v) for v in array.astype(np.float64).ravel()],
            }
            for name, array in tensors.items()
        },
    }
    with open(os.path.join(HERE, "safetensors_python.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


# The tensors of SafetensorsInteropTests.swiftFixtureTensors(), restated here.
SWIFT_TENSORS = {
    "weight": np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype=np.float32),
    "bias": np.array([1 / 3, -2.5, 1e-300], dtype=np.float64),
    "scale": np.array(math.pi, dtype=np.float64),
    "empty": np.zeros((0, 2), dtype=np.float32),
    "special": np.array([np.inf, -np.inf, np.nan, -0.0], dtype=np.float32),
}
SWIFT_METADATA = {"format": "flowtensor", "step": "7", "note": "quote \" and ✓"}


def verify_swift_fixture():
    path = os.path.join(HERE, "safetensors_swift.safetensors")
    loaded = load_file(path)
    assert sorted(loaded) == sorted(SWIFT_TENSORS), sorted(loaded)
    for name, expected in SWIFT_TENSORS.items():
        actual = loaded[name]
        assert actual.dtype == expected.dtype, (name, actual.dtype)
        assert actual.shape == expected.shape, (name, actual.shape)
        assert np.array_equal(actual, expected, equal_nan=True), (name, actual)
        assert np.array_equal(np.signbit(actual), np.signbit(expected)), (name, "sign of zero")
    with safe_open(path, framework="np") as f:
        assert f.metadata() == SWIFT_METADATA, f.metadata()
    print(f"{path}: loads with safetensors.numpy.load_file, values and metadata exact")


if __name__ == "__main__":
    if "--verify-only" not in sys.argv[1:]:
        write_python_fixture()
    verify_swift_fixture()

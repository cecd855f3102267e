"""Writes text8_mapping.json: sample texts and the symbols that
Scripts/make_corpus.py makes of them (its own byte table and collapse, run
here), so the Swift test can check that CharacterVocabulary's mapping is the
script's.

Run: python3 text8_mapping.py
"""

import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "..", "Scripts", "make_corpus.py")

SAMPLES = [
    "",
    "   ",
    "Hello, World!",
    "  To be, or not to be: that is the question.\n",
    "O Romeo, Romeo! wherefore art thou Romeo?\r\n\tDeny thy father--and refuse thy name;",
    "perform'd  ACT III. Scene 2 [Exeunt.] 1623",
    "Caf\u00e9 na\u00efve \u2014 \u00c6sop's \u201cfables\u201d",
    "a",
    "Z9z",
]


def main():
    spec = importlib.util.spec_from_file_location("make_corpus", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = []
    for text in SAMPLES:
        raw = text.encode("utf-8")
        mapped = module.collapse(raw.translate(module._TABLE))
        cases.append({"utf8": list(raw), "text": mapped.decode("ascii")})
    with open(os.path.join(HERE, "text8_mapping.json"), "w") as handle:
        json.dump(cases, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()

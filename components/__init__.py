"""TFX component factories and the image-record format shared by snout's stages.

snout's custom artifact types are named `components.<Class>` (contract/lite.py, contract/audit.py): KFP's v2 container
entrypoint recovers a custom type by importing its schema title as `<module>.<Class>`, and the title's
module may have one dot-free name. They are resolved here on first use, so importing a component
does not import every other one.
"""

_CUSTOM_ARTIFACT_MODULES = {
    "LiteModel": "components.lite_export.component",
    "LitePushedModel": "components.lite_export.component",
    "Embeddings": "components.embeddings.component",
    "DataAudit": "components.audit.component",
}


def __getattr__(name):
    if name not in _CUSTOM_ARTIFACT_MODULES:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(_CUSTOM_ARTIFACT_MODULES[name]), name)

"""TFX component factories and the image-record format shared by snout's stages."""

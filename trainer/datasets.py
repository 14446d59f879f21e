"""tf.data input from Transform's materialised output: (image_xf batch, label batch)."""

from tfx_bsl.public import tfxio

from contract import LABEL_KEY, TRANSFORMED_IMAGE_KEY


def transformed_dataset(data_accessor, file_patterns, tf_transform_output, batch_size: int,
                        shuffle: bool, seed: int = 7):
    """One pass over the files (Keras epochs re-iterate it), batched, optionally shuffled."""
    dataset = data_accessor.tf_dataset_factory(
        file_patterns,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=LABEL_KEY, num_epochs=1, shuffle=shuffle,
            shuffle_seed=seed, shuffle_buffer_size=1024,
        ),
        tf_transform_output.transformed_metadata.schema,
    )
    return dataset.map(lambda features, label: (features[TRANSFORMED_IMAGE_KEY], label))

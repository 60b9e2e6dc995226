// Neural encoding models (DwiseNeuro) and their training.

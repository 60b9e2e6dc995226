// Plots drawn on a raster canvas and saved as PNG, with no dependencies.

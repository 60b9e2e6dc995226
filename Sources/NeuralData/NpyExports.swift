// NeuralData's .npy arrays are PythonFormats' NpyArray/NpyHeader/NpyDType; re-exported so that code importing
// NeuralData (the neural commands, their tests) keeps using them without a second import.
@_exported import PythonFormats

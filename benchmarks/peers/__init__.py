"""The peers neuralcodes is measured against: the seed notebook's Keras model and loader, FAISS.

Heavy peers (TensorFlow, FAISS, scikit-learn) are imported inside functions: they form the optional
``bench`` extra and are never runtime dependencies of neuralcodes.
"""

/// The attention autoencoder over network weights and its training.
public enum MetaLearningModule {}

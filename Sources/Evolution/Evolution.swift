/// Search operators and algorithms on `[P × D]` genome matrices.
public enum EvolutionModule {}

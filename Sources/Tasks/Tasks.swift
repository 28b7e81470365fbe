/// Fitness tasks: datasets, classic control, external evaluators.
public enum TasksModule {}

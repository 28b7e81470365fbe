/// The run: islands, topology, migration, schedule, checkpoints.
public enum IslandModelModule {}

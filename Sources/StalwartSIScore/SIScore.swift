// SI-Score synthesis and per-factor scoring (issue 8). Placeholder until the module lands.
import StalwartTensor

public enum SIScoreModule {}

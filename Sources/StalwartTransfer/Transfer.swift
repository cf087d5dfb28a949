// Transferability: few-shot linear probes, full linear probes, correlations (issue 9).
// Placeholder until the module lands.
import CLAPACK
import StalwartTensor

public enum TransferModule {}

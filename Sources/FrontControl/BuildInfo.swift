/// What this build of brokerfront is: `brokerfront --version` and the `brokerfront_build_info` metric.
public enum BuildInfo {
    /// The release version (semantic versioning); packages and images are named after it.
    public static let version = "1.0.0"
}

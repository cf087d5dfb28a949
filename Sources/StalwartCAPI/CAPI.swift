import CStalwart
import StalwartONNX

@c @implementation
public func stalwart_api_version() -> UInt32 { UInt32(STALWART_API_VERSION) }

/// What a job (merchant × resource) works on, parsed from the resource string it is stored
/// under: `controls`, `status`, or a single-write lane (`write:<lane>`, e.g. `write:theme:<layout>`).
enum JobResource: Sendable, Equatable {
    case controls
    case status
    case singleWrite(lane: String)

    init?(_ stored: String) {
        switch stored {
        case "controls": self = .controls
        case "status": self = .status
        case _ where stored.hasPrefix(SingleWrite.resourcePrefix): self = .singleWrite(lane: String(stored.dropFirst(SingleWrite.resourcePrefix.count)))
        default: return nil
        }
    }

    /// The string the job is stored under.
    var stored: String {
        switch self {
        case .controls: "controls"
        case .status: "status"
        case .singleWrite(let lane): SingleWrite.resourcePrefix + lane
        }
    }
}

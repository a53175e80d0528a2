import Foundation

/// The experiment a `--experiment` flag names: its file (`experiments/NAME.yaml`, in any folder) or its bare name.
func experimentName(_ flag: String) -> String {
    flag.hasSuffix(".yaml") ? ((flag as NSString).lastPathComponent as NSString).deletingPathExtension : flag
}

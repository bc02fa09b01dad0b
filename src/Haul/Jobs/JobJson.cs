using System.Text.Json.Serialization;

namespace Haul.Jobs;

[JsonSerializable(typeof(string[]), TypeInfoPropertyName = "StringArray")]
internal sealed partial class JobJson : JsonSerializerContext;

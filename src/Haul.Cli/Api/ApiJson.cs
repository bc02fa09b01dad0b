using System.Text.Json;
using System.Text.Json.Serialization;
using Haul.Node;

namespace Haul.Cli.Api;

/// <summary>A problem details body (RFC 9457) with the CLI's error code.</summary>
internal sealed record ProblemView(string Type, string Title, int Status, string Detail, int? Code, string? Error, string? Fix, string? Instance);

/// <summary>The result of running a job now.</summary>
internal sealed record JobRunResult(string Name, int ExitCode, string Message);

/// <summary>
/// Every type the API reads or writes, serialized by generated code: no reflection at run time, so the
/// same handlers work in the Native AOT binary (packaging/publish.sh) and start faster under the JIT.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(NodeView))]
[JsonSerializable(typeof(List<PeerView>))]
[JsonSerializable(typeof(PeerBody))]
[JsonSerializable(typeof(InviteBody))]
[JsonSerializable(typeof(InviteView))]
[JsonSerializable(typeof(JoinBody))]
[JsonSerializable(typeof(TransferBody))]
[JsonSerializable(typeof(TransferView))]
[JsonSerializable(typeof(IReadOnlyList<TransferView>))]
[JsonSerializable(typeof(List<FolderView>))]
[JsonSerializable(typeof(FolderBody))]
[JsonSerializable(typeof(List<JobView>))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobBody))]
[JsonSerializable(typeof(JobRunResult))]
[JsonSerializable(typeof(List<JobRunView>))]
[JsonSerializable(typeof(List<ReceiptView>))]
[JsonSerializable(typeof(ProblemView))]
internal sealed partial class ApiJson : JsonSerializerContext;

using System.Diagnostics.CodeAnalysis;

namespace Haul;

internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Protocol(string message) =>
        throw new HaulException(ErrorCode.ProtocolError, message, "both nodes must run a compatible haul version");

    [DoesNotReturn]
    public static T Protocol<T>(string message) =>
        throw new HaulException(ErrorCode.ProtocolError, message, "both nodes must run a compatible haul version");
}

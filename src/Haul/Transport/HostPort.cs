namespace Haul.Transport;

/// <summary>HOST:PORT as typed or stored ("192.0.2.10:7400", "[2001:db8::1]:7400", "lab-b.example:7400").</summary>
internal static class HostPort
{
    public static (string Host, int Port) Split(string address)
    {
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out int port) || port is <= 0 or > 65535)
        {
            throw new HaulException(ErrorCode.Usage, $"'{address}' is not HOST:PORT", "give an address like 192.0.2.10:7400");
        }

        return (address[..colon].Trim('[', ']'), port);
    }
}

namespace Dragonfly.Dfdaemon.Proxy;

/// <summary>Set on a connection whose CONNECT tunnel dfdaemon intercepted: inner requests are for <c>https://Authority</c>.</summary>
public sealed record HijackedConnectionFeature(string Host, int Port)
{
    public string Authority => Port == 443 ? Host : Host + ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

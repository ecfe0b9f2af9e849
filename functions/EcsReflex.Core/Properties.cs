[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("EcsReflex.Core.Tests")]
